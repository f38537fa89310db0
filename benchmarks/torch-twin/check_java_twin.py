#!/usr/bin/env python3
"""Checks that the twin starts where `bin/lsoftmax train` starts, bit for bit: the normalisation
(mean, std), every initial weight (dense layers, biases, PReLU slopes, class weights) and the
shuffled order of epochs 1 and 2, for a seed; and that the head's k and psi equal LSoftmaxMath's
bit for bit for a given cos(theta). It runs a small throwaway Java program against the
project's jar (org.lsoftmax.math.SplitMix64, org.lsoftmax.model.Network, Normalization), so it needs
the jar (bin/lsoftmax builds it) and a JDK >= 21 (found by ci/common.sh).

    python3 check_java_twin.py [--seed 1] [--hidden 512,256] [--feature-dim 64] [--data DIR]
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import torch  # noqa: E402
from lsoftmax import margin_k, psi  # noqa: E402
from splitmix64 import SplitMix64  # noqa: E402
from train import DEFAULT_DATA, INIT_STREAM, Network, fit_normalization, load_data, parse_list  # noqa: E402

JAVA_SOURCE = r"""
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.data.DatasetLoader;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.math.LSoftmaxMath;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.Architecture;
import org.lsoftmax.model.Network;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.linalg.SimpleMatrixProducts;

public class TwinDump {
    public static void main(String[] a) throws Exception {
        Path out = Path.of(a[0]);
        long seed = Long.parseLong(a[1]);
        List<Integer> hidden = new ArrayList<>();
        for (String w : a[2].split(",")) hidden.add(Integer.parseInt(w));
        int featureDim = Integer.parseInt(a[3]);
        TrainTestData data = DatasetLoader.loadIdxDirectory(Path.of(a[4]));
        Normalization n = Normalization.fit(data.train());
        Files.writeString(out.resolve("normalization.txt"),
                Float.floatToRawIntBits(n.mean()) + " " + Float.floatToRawIntBits(n.std()));
        Network net = new Network(new Architecture(data.dimension(), hidden, featureDim, data.classes()), 1,
                new SimpleMatrixProducts());
        net.initialise(SplitMix64.forStream(seed, 0));
        StringBuilder names = new StringBuilder();
        for (Parameter p : net.parameters()) {
            ByteBuffer b = ByteBuffer.allocate(4 * p.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : p.value()) b.putFloat(v);
            Files.write(out.resolve(p.name() + ".f32"), b.array());
            names.append(p.name()).append(' ').append(p.weightDecayed()).append('\n');
        }
        Files.writeString(out.resolve("parameters.txt"), names);
        for (int epoch = 1; epoch <= 2; epoch++) {
            int[] order = new int[data.train().size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            SplitMix64.forStream(seed, epoch).shuffle(order);
            ByteBuffer b = ByteBuffer.allocate(4 * order.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : order) b.putInt(v);
            Files.write(out.resolve("order" + epoch + ".i32"), b.array());
        }
        // k and psi of LSoftmaxMath for the cosines in c.f64, m = 1..16
        DoubleBuffer c = ByteBuffer.wrap(Files.readAllBytes(out.resolve("c.f64"))).order(ByteOrder.LITTLE_ENDIAN)
                .asDoubleBuffer();
        ByteBuffer psi = ByteBuffer.allocate(16 * c.remaining() * 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int m = 1; m <= 16; m++) {
            for (int i = 0; i < c.remaining(); i++) {
                int k = LSoftmaxMath.marginK(c.get(i), m);
                psi.putDouble(LSoftmaxMath.psi(c.get(i), m, k)).putDouble(k);
            }
        }
        Files.write(out.resolve("psi.f64"), psi.array());
    }
}
"""


def java_home():
    return subprocess.run(["bash", "-c", f"source '{ROOT}/ci/common.sh' && find_java_home"], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description="bit-for-bit check of the twin's start against the Java loop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hidden", default="512,256")
    parser.add_argument("--feature-dim", type=int, default=64)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)

    subprocess.run([os.path.join(ROOT, "bin", "lsoftmax"), "--version"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # builds the jar when needed
    jars = glob.glob(os.path.join(ROOT, "target", "lsoftmax-tornado-*.jar"))
    if not jars:
        raise SystemExit("check_java_twin.py: no target/lsoftmax-tornado-*.jar (bin/lsoftmax builds it)")
    classpath = jars[0] + os.pathsep + os.path.join(ROOT, "target", "lib", "*")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        rng = np.random.default_rng(args.seed)
        cosines = np.concatenate([rng.uniform(-1.0, 1.0, 20000), [-1.0, 0.0, 1.0],
                                  [np.cos(j * np.pi / m) for m in range(1, 17) for j in range(m + 1)]])
        cosines.astype("<f8").tofile(os.path.join(folder, "c.f64"))
        source = os.path.join(folder, "TwinDump.java")
        with open(source, "w") as f:
            f.write(JAVA_SOURCE)
        run = subprocess.run([os.path.join(java_home(), "bin", "java"), "-cp", classpath, source, folder,
                              str(args.seed), args.hidden, str(args.feature_dim), args.data],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            print(run.stdout, file=sys.stderr)
            raise SystemExit("check_java_twin.py: the Java dump failed (output above)")

        train_x, train_y, test_x, test_y = load_data(args.data)
        mean, std = fit_normalization(train_x)
        java_mean, java_std = (int(v) for v in open(os.path.join(folder, "normalization.txt")).read().split())
        same = (int(np.array(mean).view(np.int32)) == java_mean and int(np.array(std).view(np.int32)) == java_std)
        print(f"normalisation mean {float(mean):.7g} std {float(std):.7g}: {'identical' if same else 'DIFFERENT'}")
        ok &= same

        classes = int(max(train_y.max(), test_y.max())) + 1
        network = Network(train_x.shape[1], parse_list(args.hidden), args.feature_dim, classes, 1)
        network.initialise(SplitMix64.for_stream(args.seed, INIT_STREAM))
        java_parameters = [line.split() for line in open(os.path.join(folder, "parameters.txt")).read().splitlines()]
        groups = network.parameter_groups()
        if len(groups) != len(java_parameters):
            print(f"parameter count: twin {len(groups)}, java {len(java_parameters)}: DIFFERENT")
            ok = False
        for (parameter, decayed), (name, java_decayed) in zip(groups, java_parameters):
            java_value = np.fromfile(os.path.join(folder, name + ".f32"), dtype="<f4")
            twin_value = parameter.detach().numpy().ravel()
            same = (java_value.size == twin_value.size
                    and np.array_equal(java_value.view(np.uint32), twin_value.view(np.uint32))
                    and decayed == (java_decayed == "true"))
            print(f"{name:16s} {twin_value.size:7d} values, weight decay {str(decayed).lower():5s}: "
                  f"{'identical' if same else 'DIFFERENT'}")
            ok &= same
        for epoch in (1, 2):
            java_order = np.fromfile(os.path.join(folder, f"order{epoch}.i32"), dtype="<i4")
            twin_order = np.array(SplitMix64.for_stream(args.seed, epoch).shuffle(list(range(train_x.shape[0]))))
            same = np.array_equal(java_order, twin_order)
            print(f"shuffle of epoch {epoch}: {'identical' if same else 'DIFFERENT'}")
            ok &= same
        java_psi = np.fromfile(os.path.join(folder, "psi.f64"), dtype="<f8").reshape(16, -1, 2)
        c = torch.from_numpy(cosines)
        same = all(np.array_equal(psi(c, m).numpy().view(np.int64), java_psi[m - 1, :, 0].view(np.int64))
                   and np.array_equal(margin_k(c, m).numpy(), java_psi[m - 1, :, 1]) for m in range(1, 17))
        print(f"k and psi (float64) at {cosines.size} cosines incl. every threshold, m = 1..16: "
              f"{'identical' if same else 'DIFFERENT'}")
        ok &= same
    print("twin start " + ("identical to the Java loop's" if ok else "DIFFERS from the Java loop's"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
