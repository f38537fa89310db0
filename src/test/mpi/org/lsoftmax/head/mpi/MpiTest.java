package org.lsoftmax.head.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.testing.Seeds;

/** The binding on a real Open MPI: {@link MpiSelfCheck} as a job of 2 and 3 ranks. */
class MpiTest {

    @ParameterizedTest(name = "mpirun -np {0}")
    @ValueSource(ints = {2, 3})
    void everyCollectiveGivesWhatItMustOnEveryRank(int ranks) throws Exception {
        MpiJob.assumeMpirun();
        MpiJob.Result result = MpiJob.run(ranks, List.of(), MpiSelfCheck.class.getName(), List.of(), 120);
        assertEquals(0, result.exitCode(), result.output());
        for (int rank = 0; rank < ranks; rank++) {
            assertTrue(result.output().matches("(?s).*rank " + rank + " of " + ranks + ": \\d+ checks passed.*"),
                    "rank " + rank + " did not pass: " + result.output());
        }
    }

    @ParameterizedTest(name = "mpirun -np {0}")
    @ValueSource(ints = {2, 3})
    void theMpiCollectiveGivesLocalCollectivesResultsBitForBit(int ranks) throws Exception {
        MpiJob.assumeMpirun();
        long seed = Seeds.draw();
        MpiJob.Result result = MpiJob.run(ranks, List.of(), MpiCollectiveCheck.class.getName(), List.of(Long.toString(seed)), 120);
        assertEquals(0, result.exitCode(), "seed " + seed + ": " + result.output());
        for (int rank = 0; rank < ranks; rank++) {
            assertTrue(result.output().matches("(?s).*rank " + rank + ": \\d+ operations equal to LocalCollective.*"),
                    "seed " + seed + ", rank " + rank + ": " + result.output());
        }
    }
}
