/**
 * Pictures of training runs with JFreeChart: loss and accuracy curves, the 2-D feature scatter (the
 * paper's Figure 2), grids of panels, read from run folders. Uses {@code train} (the files a run writes).
 */
package org.lsoftmax.plot;
