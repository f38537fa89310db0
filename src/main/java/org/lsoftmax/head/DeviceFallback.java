package org.lsoftmax.head;

/**
 * How a device pass that fails in the middle of a run (a kernel that does not compile, an execution
 * error) gets the pass that takes over: {@code head.select.PassFactory} hands one to every device pass it creates,
 * so the decision and its log line are made in one place.
 */
@FunctionalInterface
public interface DeviceFallback {

    /**
     * The pass that replaces a failed device pass (same shape and margin); logs one warning naming the
     * device and the reason.
     */
    HeadPass replace(String device, String reason);
}
