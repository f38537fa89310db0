package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lsoftmax.head.MarginLoss;

class TrainConfigTest {

    private static TrainConfig config(MarginLoss loss, TrainConfig.Warmup warmup) {
        return new TrainConfig(loss, List.of(8), 4, 16, 0.05, List.of(), 0.9, 5e-4, 2, 1, new BetaSchedule.Constant(0), "jvm", warmup,
                List.of(0, 2, 4));
    }

    /** The margins grow linearly from 0 and the scale from 1 over their warm-ups, then stay at the configured loss. */
    @Test
    void warmupsRampTheMarginsAndTheScale() {
        MarginLoss combined = MarginLoss.combined(30, 1.5, 0.4, 0.2);
        TrainConfig config = config(combined, new TrainConfig.Warmup(100, 200));
        MarginLoss start = config.lossAt(0);
        assertEquals(1.0, start.m1(), 0.0);
        assertEquals(0.0, start.m2(), 0.0);
        assertEquals(0.0, start.m3(), 0.0);
        assertEquals(1.0, start.scale(), 0.0);
        MarginLoss half = config.lossAt(50);
        assertEquals(1.25, half.m1(), 1e-12);
        assertEquals(0.2, half.m2(), 1e-12);
        assertEquals(0.1, half.m3(), 1e-12);
        assertEquals(1.0 + 29.0 * 50 / 200, half.scale(), 1e-12);
        assertEquals(combined.withScale(1.0 + 29.0 * 150 / 200), config.lossAt(150));
        assertEquals(combined, config.lossAt(200));
        assertEquals(combined, config.lossAt(10_000));
        // L-Softmax has no real margins or scale to warm up
        assertEquals(MarginLoss.lsoftmax(4), config(MarginLoss.lsoftmax(4), new TrainConfig.Warmup(100, 100)).lossAt(0));
    }

    /** The loss, the warm-ups and the class subset survive the checkpoint's text; an old checkpoint's margin= still reads. */
    @Test
    void theTextFormRoundTrips() {
        TrainConfig config = config(MarginLoss.arcface(16, 0.5), new TrainConfig.Warmup(10, 20));
        assertEquals(config, TrainConfig.fromText(config.toText(), "test"));
        String old = config(MarginLoss.lsoftmax(3), TrainConfig.Warmup.NONE).withTrainClasses(List.of()).toText()
                .replaceAll("(?m)^(loss|marginWarmup|scaleWarmup|trainClasses)=.*\\n", "");
        assertEquals(MarginLoss.lsoftmax(3), TrainConfig.fromText(old, "an old checkpoint").loss());
    }
}
