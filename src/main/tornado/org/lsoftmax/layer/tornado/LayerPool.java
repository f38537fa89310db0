package org.lsoftmax.layer.tornado;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.tornado.GridSizes.MatmulVariant;

/**
 * Keeps the device layers of closed passes for reuse by the next pass with the same shape, device
 * and kernel variant, whatever its margin: building a layer JIT-compiles eight kernels (seconds on
 * PoCL), while the margin is just a device value. Bounded: at most one idle layer per configuration
 * and {@value #MAX_IDLE} in all (the least recently returned one is closed beyond that, which frees
 * its device buffers); {@link #clear()} closes every idle layer. Also counts every layer that holds
 * device memory (in use or idle), and its bytes, for {@link TornadoSupport#resources()}.
 */
final class LayerPool {

    static final int MAX_IDLE = 3;

    private record Key(LayerShape shape, String device, MatmulVariant variant, TornadoOptions options) {
    }

    /** Idle layers, least recently returned first. */
    private static final Map<Key, TornadoLayer> IDLE = new LinkedHashMap<>();
    private static int liveLayers;
    private static long liveBytes;
    private static long created;
    private static long closed;

    private LayerPool() {
    }

    /** An idle layer for this configuration (it leaves the pool), or null. */
    static synchronized TornadoLayer take(LayerShape shape, String device, MatmulVariant variant, TornadoOptions options) {
        return IDLE.remove(new Key(shape, device, variant, options.forPool()));
    }

    /**
     * Returns a healthy layer for reuse. A second idle layer of the same configuration, and the least
     * recently returned one beyond {@value #MAX_IDLE}, are closed.
     */
    static void give(LayerShape shape, String device, MatmulVariant variant, TornadoOptions options, TornadoLayer layer) {
        List<TornadoLayer> evicted = new ArrayList<>(2);
        layer.arm(FaultInjection.NONE);
        synchronized (LayerPool.class) {
            Key key = new Key(shape, device, variant, options.forPool());
            if (IDLE.containsKey(key)) {
                evicted.add(layer);
            } else {
                IDLE.put(key, layer);
                if (IDLE.size() > MAX_IDLE) {
                    Iterator<TornadoLayer> eldest = IDLE.values().iterator();
                    evicted.add(eldest.next());
                    eldest.remove();
                }
            }
        }
        for (TornadoLayer old : evicted) {
            old.close();
        }
    }

    /** Closes every idle layer (frees their device memory); layers in use are not touched. */
    static void clear() {
        List<TornadoLayer> idle;
        synchronized (LayerPool.class) {
            idle = new ArrayList<>(IDLE.values());
            IDLE.clear();
        }
        for (TornadoLayer layer : idle) {
            layer.close();
        }
    }

    /** A new layer holds device memory now. */
    static synchronized void opened(TornadoLayer layer) {
        liveLayers++;
        liveBytes += layer.deviceBytes();
        created++;
    }

    /** A layer released its device memory (called once per layer, by its close). */
    static synchronized void closed(TornadoLayer layer) {
        liveLayers--;
        liveBytes -= layer.deviceBytes();
        closed++;
    }

    static synchronized TornadoResources resources() {
        return new TornadoResources(liveLayers, IDLE.size(), liveBytes, created, closed);
    }
}
