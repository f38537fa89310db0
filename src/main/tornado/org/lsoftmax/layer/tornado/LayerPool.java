package org.lsoftmax.layer.tornado;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.tornado.GridSizes.MatmulVariant;

/**
 * Keeps the device layers of closed passes for reuse by the next pass with the same shape, device
 * and kernel variant, whatever its margin: building a layer JIT-compiles eight kernels (seconds on
 * PoCL), while the margin is just a device value. At most {@value #MAX_IDLE} idle layers are kept;
 * older ones are closed.
 */
final class LayerPool {

    static final int MAX_IDLE = 4;

    private record Key(LayerShape shape, String device, MatmulVariant variant, TornadoOptions options) {
    }

    private record Idle(Key key, TornadoLayer layer) {
    }

    private static final Deque<Idle> IDLE = new ArrayDeque<>();

    private LayerPool() {
    }

    /** An idle layer for this configuration, or null. */
    static synchronized TornadoLayer take(LayerShape shape, String device, MatmulVariant variant, TornadoOptions options) {
        Key key = new Key(shape, device, variant, options);
        for (Iterator<Idle> it = IDLE.iterator(); it.hasNext();) {
            Idle idle = it.next();
            if (idle.key().equals(key)) {
                it.remove();
                return idle.layer();
            }
        }
        return null;
    }

    /** Returns a healthy layer for reuse; closes the oldest idle one beyond {@value #MAX_IDLE}. */
    static void give(LayerShape shape, String device, MatmulVariant variant, TornadoOptions options, TornadoLayer layer) {
        TornadoLayer evicted = null;
        synchronized (LayerPool.class) {
            IDLE.addFirst(new Idle(new Key(shape, device, variant, options), layer));
            if (IDLE.size() > MAX_IDLE) {
                evicted = IDLE.removeLast().layer();
            }
        }
        if (evicted != null) {
            evicted.close();
        }
    }
}
