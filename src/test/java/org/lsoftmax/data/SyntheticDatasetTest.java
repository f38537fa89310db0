package org.lsoftmax.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SyntheticDatasetTest {

    @Test
    void isReproducibleAndBalanced() {
        TrainTestData first = SyntheticDataset.createDefault();
        TrainTestData second = SyntheticDataset.createDefault();
        assertArrayEquals(first.train().features(), second.train().features());
        assertEquals(SyntheticDataset.DEFAULT_CLASSES, first.classes());
        int[] counts = new int[first.classes()];
        for (int label : first.train().labels()) {
            counts[label]++;
        }
        for (int count : counts) {
            assertEquals(SyntheticDataset.DEFAULT_TRAIN_SIZE / SyntheticDataset.DEFAULT_CLASSES, count);
        }
    }

    @Test
    void normalisationGivesZeroMeanUnitStd() {
        Dataset train = SyntheticDataset.createDefault().train();
        Dataset normalised = Normalization.fit(train).apply(train);
        Normalization after = Normalization.fit(normalised);
        assertEquals(0.0, after.mean(), 1e-4);
        assertEquals(1.0, after.std(), 1e-4);
    }
}
