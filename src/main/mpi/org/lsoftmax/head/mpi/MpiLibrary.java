package org.lsoftmax.head.mpi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The downcall handles of Open MPI's C library ({@code libmpi.so.40}, Open MPI 4.x), one per MPI call the
 * sharded head needs, and the addresses of its predefined handles.
 *
 * <p>Which MPI: Open MPI only. In Open MPI a communicator, a datatype and an operation are pointers to
 * global objects of the library ({@code MPI_COMM_WORLD} is {@code &ompi_mpi_comm_world}, {@code MPI_FLOAT}
 * is {@code &ompi_mpi_float}, ...), so a handle is the address of an exported symbol. MPICH and its
 * derivatives (Intel MPI, MVAPICH) define the same handles as integer constants of {@code mpi.h}; a binding
 * for them would pass {@code int}s where this one passes addresses, and is not written.
 *
 * <p>The library is opened with {@code RTLD_GLOBAL} before it is looked up: Open MPI loads its components
 * (shared-memory transport, collectives) as plug-ins that resolve Open MPI's own symbols from the global
 * namespace, as its C and Java programs do. The JVM's signal handlers stay in place: Open MPI installs its
 * stack-trace handlers only on signals that have none, and the JVM has installed its own by then.
 */
final class MpiLibrary {

    /** The names tried in order, unless {@code LSOFTMAX_MPI_LIBRARY} (a path or a name) is set: then only it. */
    static final List<String> CANDIDATES = List.of("libmpi.so.40", "libmpi.so");
    /** From {@code mpi.h}: {@code #define MPI_IN_PLACE ((void *) 1)}. */
    static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1L);
    /** From {@code mpi.h}. */
    static final int THREAD_SERIALIZED = 2;
    static final int MAX_ERROR_STRING = 256;
    static final int MAX_LIBRARY_VERSION_STRING = 256;
    static final int SUCCESS = 0;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final java.lang.foreign.AddressLayout POINTER = ValueLayout.ADDRESS;
    /** {@code RTLD_NOW | RTLD_GLOBAL} on Linux. */
    private static final int RTLD_NOW_GLOBAL = 0x00002 | 0x00100;

    final String libraryName;
    final MethodHandle initThread;
    final MethodHandle initialized;
    final MethodHandle finalized;
    final MethodHandle finalizeCall;
    final MethodHandle commRank;
    final MethodHandle commSize;
    final MethodHandle commSetErrhandler;
    final MethodHandle errorString;
    final MethodHandle libraryVersion;
    final MethodHandle barrier;
    final MethodHandle bcast;
    final MethodHandle gather;
    final MethodHandle gatherv;
    final MethodHandle alltoallv;
    final MethodHandle allgather;
    final MethodHandle allgatherv;
    final MethodHandle allreduce;
    final MethodHandle reduce;
    final MethodHandle reduceScatter;
    final MethodHandle abort;
    final MethodHandle wtime;

    final MemorySegment commWorld;
    final MemorySegment errorsReturn;
    final MemorySegment typeFloat;
    final MemorySegment typeDouble;
    final MemorySegment typeInt;
    final MemorySegment typeLong;
    final MemorySegment typeByte;
    final MemorySegment opSum;
    final MemorySegment opMax;
    final MemorySegment opMin;

    private MpiLibrary(String libraryName, SymbolLookup lookup) {
        this.libraryName = libraryName;
        // int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
        initThread = function(lookup, "MPI_Init_thread", FunctionDescriptor.of(INT, POINTER, POINTER, INT, POINTER));
        initialized = function(lookup, "MPI_Initialized", FunctionDescriptor.of(INT, POINTER));
        finalized = function(lookup, "MPI_Finalized", FunctionDescriptor.of(INT, POINTER));
        finalizeCall = function(lookup, "MPI_Finalize", FunctionDescriptor.of(INT));
        commRank = function(lookup, "MPI_Comm_rank", FunctionDescriptor.of(INT, POINTER, POINTER));
        commSize = function(lookup, "MPI_Comm_size", FunctionDescriptor.of(INT, POINTER, POINTER));
        commSetErrhandler = function(lookup, "MPI_Comm_set_errhandler", FunctionDescriptor.of(INT, POINTER, POINTER));
        // int MPI_Error_string(int errorcode, char *string, int *resultlen)
        errorString = function(lookup, "MPI_Error_string", FunctionDescriptor.of(INT, INT, POINTER, POINTER));
        libraryVersion = function(lookup, "MPI_Get_library_version", FunctionDescriptor.of(INT, POINTER, POINTER));
        barrier = function(lookup, "MPI_Barrier", FunctionDescriptor.of(INT, POINTER));
        // int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm)
        bcast = function(lookup, "MPI_Bcast", FunctionDescriptor.of(INT, POINTER, INT, POINTER, INT, POINTER));
        // int MPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
        //                void *recvbuf, int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
        gather = function(lookup, "MPI_Gather",
                FunctionDescriptor.of(INT, POINTER, INT, POINTER, POINTER, INT, POINTER, INT, POINTER));
        // int MPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
        //                 const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root, MPI_Comm comm)
        gatherv = function(lookup, "MPI_Gatherv",
                FunctionDescriptor.of(INT, POINTER, INT, POINTER, POINTER, POINTER, POINTER, POINTER, INT, POINTER));
        // int MPI_Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype,
        //                   void *recvbuf, const int recvcounts[], const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
        alltoallv = function(lookup, "MPI_Alltoallv",
                FunctionDescriptor.of(INT, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER));
        // int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
        //                   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
        allgather = function(lookup, "MPI_Allgather",
                FunctionDescriptor.of(INT, POINTER, INT, POINTER, POINTER, INT, POINTER, POINTER));
        // int MPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
        //                    const int recvcounts[], const int displs[], MPI_Datatype recvtype, MPI_Comm comm)
        allgatherv = function(lookup, "MPI_Allgatherv",
                FunctionDescriptor.of(INT, POINTER, INT, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER));
        // int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm)
        allreduce = function(lookup, "MPI_Allreduce",
                FunctionDescriptor.of(INT, POINTER, POINTER, INT, POINTER, POINTER, POINTER));
        // int MPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, int root, MPI_Comm)
        reduce = function(lookup, "MPI_Reduce",
                FunctionDescriptor.of(INT, POINTER, POINTER, INT, POINTER, POINTER, INT, POINTER));
        // int MPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[], MPI_Datatype, MPI_Op, MPI_Comm)
        reduceScatter = function(lookup, "MPI_Reduce_scatter",
                FunctionDescriptor.of(INT, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER));
        abort = function(lookup, "MPI_Abort", FunctionDescriptor.of(INT, POINTER, INT));
        wtime = function(lookup, "MPI_Wtime", FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE));

        commWorld = symbol(lookup, "ompi_mpi_comm_world");
        errorsReturn = symbol(lookup, "ompi_mpi_errors_return");
        typeFloat = symbol(lookup, "ompi_mpi_float");
        typeDouble = symbol(lookup, "ompi_mpi_double");
        typeInt = symbol(lookup, "ompi_mpi_int");
        typeLong = symbol(lookup, "ompi_mpi_long");
        typeByte = symbol(lookup, "ompi_mpi_byte");
        opSum = symbol(lookup, "ompi_mpi_op_sum");
        opMax = symbol(lookup, "ompi_mpi_op_max");
        opMin = symbol(lookup, "ompi_mpi_op_min");
    }

    /**
     * Opens the library and binds every call.
     *
     * @throws MpiException naming the library tried and what was missing
     */
    static MpiLibrary open() {
        String override = System.getenv("LSOFTMAX_MPI_LIBRARY");
        return open(override != null && !override.isBlank() ? List.of(override) : CANDIDATES);
    }

    /** The first of {@code names} that opens, bound; a name with a slash is a path. */
    static MpiLibrary open(List<String> names) {
        StringBuilder tried = new StringBuilder();
        for (String name : names) {
            if (!dlopenGlobal(name)) {
                tried.append(tried.isEmpty() ? "" : ", ").append(name);
                continue;
            }
            SymbolLookup lookup = name.contains("/") ? SymbolLookup.libraryLookup(Path.of(name), Arena.global())
                    : SymbolLookup.libraryLookup(name, Arena.global());
            if (lookup.find("ompi_mpi_comm_world").isEmpty()) {
                throw new MpiException(name + " is not Open MPI (it has no ompi_mpi_comm_world): this binding supports"
                        + " Open MPI 4.x only, whose handles are addresses; MPICH's are integers");
            }
            return new MpiLibrary(name, lookup);
        }
        throw new MpiException("no Open MPI library found (tried " + tried + "): install it with"
                + " `apt-get install openmpi-bin libopenmpi-dev`, or point LSOFTMAX_MPI_LIBRARY at libmpi.so.40");
    }

    /** {@code dlopen(name, RTLD_NOW | RTLD_GLOBAL)} through the C library; false when it fails. */
    private static boolean dlopenGlobal(String name) {
        Optional<MemorySegment> dlopen = LINKER.defaultLookup().find("dlopen");
        if (dlopen.isEmpty()) {
            return false;
        }
        MethodHandle handle = LINKER.downcallHandle(dlopen.get(), FunctionDescriptor.of(POINTER, POINTER, INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment result = (MemorySegment) handle.invokeExact(arena.allocateFrom(name), RTLD_NOW_GLOBAL);
            return !result.equals(MemorySegment.NULL);
        } catch (Throwable e) {
            return false;
        }
    }

    private MethodHandle function(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(lookup, name), descriptor);
    }

    private MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new MpiException(
                libraryName + " has no symbol " + name + ": this binding needs Open MPI 4.x"));
    }
}
