package org.lsoftmax.head;

/**
 * One device as TornadoVM sees it.
 *
 * @param id                {@code BACKEND:DEVICE}, as accepted by {@code --device}
 * @param backend           backend name (OPENCL, PTX, SPIRV)
 * @param name              device name reported by the driver
 * @param type              device type (CPU, GPU, ACCELERATOR, ...)
 * @param globalMemoryBytes global memory size
 * @param isDefault         whether it is TornadoVM's default device
 */
public record TornadoDeviceInfo(String id, String backend, String name, String type, long globalMemoryBytes,
        boolean isDefault) {
}
