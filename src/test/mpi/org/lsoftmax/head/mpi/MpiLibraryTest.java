package org.lsoftmax.head.mpi;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the binding says when the library is not there, or is not Open MPI (no mpirun needed). */
class MpiLibraryTest {

    @Test
    void aMissingLibraryIsNamedWithHowToInstallOpenMpi() {
        MpiException error = assertThrows(MpiException.class, () -> MpiLibrary.open(List.of("libmpi-not-here.so.40")));
        assertTrue(error.getMessage().contains("libmpi-not-here.so.40"), error.getMessage());
        assertTrue(error.getMessage().contains("apt-get install openmpi-bin"), error.getMessage());
    }

    @Test
    void aLibraryThatIsNotOpenMpiIsRefusedAsSuch() {
        MpiException error = assertThrows(MpiException.class, () -> MpiLibrary.open(List.of("libm.so.6")));
        assertTrue(error.getMessage().contains("is not Open MPI"), error.getMessage());
        assertTrue(error.getMessage().contains("MPICH"), error.getMessage());
    }
}
