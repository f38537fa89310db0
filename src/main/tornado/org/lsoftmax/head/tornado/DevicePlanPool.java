package org.lsoftmax.head.tornado;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.TornadoResources;
import org.lsoftmax.head.tornado.GridSizes.MatmulVariant;

/**
 * Keeps the device plans of closed passes for reuse by the next pass with the same shape, device
 * and kernel variant, whatever its margin: building a plan JIT-compiles eight kernels (seconds on
 * PoCL), while the margin is just a device value. Bounded: at most one idle plan per configuration
 * and {@value #MAX_IDLE} in all (the least recently returned one is closed beyond that, which frees
 * its device buffers); {@link #clear()} closes every idle plan. Also counts every plan that holds
 * device memory (in use or idle), and its bytes, for {@link TornadoDiagnosticsImpl#resources()}.
 */
final class DevicePlanPool {

    static final int MAX_IDLE = 3;

    private record Key(HeadShape shape, String device, MatmulVariant variant, TornadoOptions options, boolean shardStages) {
    }

    /** Idle plans, least recently returned first. */
    private static final Map<Key, DevicePlan> IDLE = new LinkedHashMap<>();
    private static int livePlans;
    private static long liveBytes;
    private static long created;
    private static long closed;

    private DevicePlanPool() {
    }

    /** An idle plan for this configuration (it leaves the pool), or null. */
    static synchronized DevicePlan take(HeadShape shape, String device, MatmulVariant variant, TornadoOptions options, boolean shardStages) {
        return IDLE.remove(new Key(shape, device, variant, options.forPool(), shardStages));
    }

    /**
     * Returns a healthy plan for reuse. A second idle plan of the same configuration, and the least
     * recently returned one beyond {@value #MAX_IDLE}, are closed.
     */
    static void give(HeadShape shape, String device, MatmulVariant variant, TornadoOptions options, DevicePlan plan) {
        List<DevicePlan> evicted = new ArrayList<>(2);
        plan.arm(FaultInjection.NONE);
        synchronized (DevicePlanPool.class) {
            Key key = new Key(shape, device, variant, options.forPool(), plan.shardStages());
            if (IDLE.containsKey(key)) {
                evicted.add(plan);
            } else {
                IDLE.put(key, plan);
                if (IDLE.size() > MAX_IDLE) {
                    Iterator<DevicePlan> eldest = IDLE.values().iterator();
                    evicted.add(eldest.next());
                    eldest.remove();
                }
            }
        }
        for (DevicePlan old : evicted) {
            old.close();
        }
    }

    /** Closes every idle plan (frees their device memory); plans in use are not touched. */
    static void clear() {
        List<DevicePlan> idle;
        synchronized (DevicePlanPool.class) {
            idle = new ArrayList<>(IDLE.values());
            IDLE.clear();
        }
        for (DevicePlan plan : idle) {
            plan.close();
        }
    }

    /** A new plan holds device memory now. */
    static synchronized void opened(DevicePlan plan) {
        livePlans++;
        liveBytes += plan.deviceBytes();
        created++;
    }

    /** A plan released its device memory (called once per plan, by its close). */
    static synchronized void closed(DevicePlan plan) {
        livePlans--;
        liveBytes -= plan.deviceBytes();
        closed++;
    }

    static synchronized TornadoResources resources() {
        return new TornadoResources(livePlans, IDLE.size(), liveBytes, created, closed);
    }
}
