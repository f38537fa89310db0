package org.lsoftmax.head;

/**
 * A TornadoVM device cannot take the head at all (missing, too little memory, task graphs that cannot be
 * set up): {@code head.select.PassFactory} then runs the fallback pass and says why. Not bad input: the command
 * still computes.
 */
public final class DeviceUnavailableException extends RuntimeException {

    private final String device;

    public DeviceUnavailableException(String device, String reason) {
        super(reason);
        this.device = device;
    }

    /** The device as the user would name it (its id and name when known). */
    public String device() {
        return device;
    }
}
