package org.lsoftmax.head;

import java.util.Arrays;

/**
 * The samples of a batch grouped by class, by a stable counting sort of the labels (index order inside
 * a class): class j owns {@code samples()[classStart()[j] .. classStart()[j+1])}. The passes use it to
 * add the target correction of dW class by class (docs/DERIVATION.md, (L10)): one owner per class, no
 * race, a fixed summation order. Buffers are allocated once per shape.
 */
public final class ClassGroups {

    private final int classes;
    private final int[] classStart;
    private final int[] samples;
    private final int[] presentClasses;

    public ClassGroups(int batch, int classes) {
        this.classes = classes;
        this.classStart = new int[classes + 1];
        this.samples = new int[batch];
        this.presentClasses = new int[batch + 1];
    }

    /**
     * Groups {@code labels} (N values in [0, C), already checked; a shard's local label -1, a sample whose
     * class is on another shard, belongs to no class and is left out).
     */
    public void group(int[] labels) {
        Arrays.fill(classStart, 0);
        for (int label : labels) {
            if (label >= 0) {
                classStart[label + 1]++;
            }
        }
        for (int j = 0; j < classes; j++) {
            classStart[j + 1] += classStart[j];
        }
        // fill using classStart as the running cursor, then shift it back
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= 0) {
                samples[classStart[labels[i]]++] = i;
            }
        }
        for (int j = classes; j > 0; j--) {
            classStart[j] = classStart[j - 1];
        }
        classStart[0] = 0;
        int present = 0;
        for (int j = 0; j < classes; j++) {
            if (classStart[j + 1] > classStart[j]) {
                presentClasses[++present] = j;
            }
        }
        presentClasses[0] = present;
    }

    /** C + 1 offsets into {@link #samples()}. */
    public int[] classStart() {
        return classStart;
    }

    /** The N sample indices, class by class. */
    public int[] samples() {
        return samples;
    }

    /** Element 0: the number P of classes with samples; elements 1..P: those classes, ascending. */
    public int[] presentClasses() {
        return presentClasses;
    }
}
