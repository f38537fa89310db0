package org.lsoftmax.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lsoftmax.linalg.SimpleMatrixProducts;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.testing.Seeds;

/** W in blocks: a process's network holding one block ({@link Network#forShard}) has that block's values of the whole network. */
class NetworkShardsTest {

    private static final Architecture ARCHITECTURE = new Architecture(7, List.of(5), 3, 11);

    @Test
    void aProcessHoldsTheTrunkAndItsBlockWithTheWholeNetworksValues() {
        long seed = Seeds.draw();
        SimpleMatrixProducts products = new SimpleMatrixProducts();
        Network whole = new Network(ARCHITECTURE, 4, products, 3);
        whole.initialise(SplitMix64.forStream(seed, 0));
        for (int shard = 0; shard < 3; shard++) {
            Network own = Network.forShard(ARCHITECTURE, 4, products, 3, shard);
            own.initialise(SplitMix64.forStream(seed, 0));
            assertEquals(List.of(whole.classWeightShards().get(shard).name()), own.classWeightShards().stream().map(Parameter::name).toList());
            assertArrayEquals(whole.classWeightShards().get(shard).value(), own.classWeightShards().get(0).value(), 0.0f, "block " + shard);
            List<Parameter> trunk = whole.parameters().subList(0, whole.parameters().size() - 3);
            assertEquals(trunk.size() + 1, own.parameters().size());
            for (int p = 0; p < trunk.size(); p++) {
                assertEquals(trunk.get(p).name(), own.parameters().get(p).name());
                assertArrayEquals(trunk.get(p).value(), own.parameters().get(p).value(), 0.0f, trunk.get(p).name());
            }
            assertEquals(shard, own.ownedShard());
            assertThrows(IllegalStateException.class, own::classWeightMatrix);
        }
        assertThrows(IllegalArgumentException.class, () -> Network.forShard(ARCHITECTURE, 4, products, 3, 3));
    }
}
