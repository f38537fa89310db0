/**
 * The sharded head's exchanges between processes as MPI collectives: {@link org.lsoftmax.head.mpi.Mpi}, a
 * small binding of Open MPI's C library through {@code java.lang.foreign} (compiled at release 22 from
 * {@code src/main/mpi} by the {@code mpi} Maven profile, active on a JDK >= 22). Start the job with
 * {@code mpirun -np K bin/lsoftmax ... --collective mpi}; docs/SCALING.md says what crosses the wire.
 */
package org.lsoftmax.head.mpi;
