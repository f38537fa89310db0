package org.lsoftmax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package graph of the main sources (src/main/java, src/main/tornado and src/main/mpi), read from the sources
 * themselves: every {@code org.lsoftmax.*} class a file imports or names in full in its code (comments
 * and string literals, such as the class name of the one reflective entry point to the TornadoVM
 * side, are not dependencies). Packages follow the
 * data flow (root, math, linalg -> data -> model -> head and its passes -> check, train -> plot -> cli)
 * and none reaches back up it; and nothing in the project points at a file outside the repository.
 */
class ArchitectureTest {

    private static final Path ROOT = Path.of(System.getProperty("user.dir"));
    private static final Pattern PACKAGE = Pattern.compile("^package (org\\.lsoftmax(?:\\.[a-z]+)*);", Pattern.MULTILINE);
    /** A reference to a project class: its package (lower-case parts) and the class name. */
    private static final Pattern REFERENCE = Pattern.compile("\\borg\\.lsoftmax((?:\\.[a-z]+)*)\\.[A-Z]\\w*");

    /** The layers of the data flow, upstream first; a package may use its own layer and those before it. */
    private static final List<Set<String>> LAYERS = List.of(
            Set.of("org.lsoftmax", "org.lsoftmax.math"),
            Set.of("org.lsoftmax.linalg"),
            Set.of("org.lsoftmax.data"),
            Set.of("org.lsoftmax.model"),
            Set.of("org.lsoftmax.head"),
            Set.of("org.lsoftmax.head.reference", "org.lsoftmax.head.jvm", "org.lsoftmax.head.tornado", "org.lsoftmax.head.mpi"),
            Set.of("org.lsoftmax.head.select"),
            Set.of("org.lsoftmax.check", "org.lsoftmax.train"),
            Set.of("org.lsoftmax.plot"),
            Set.of("org.lsoftmax.cli"));

    @Test
    void packagesFollowTheDataFlowWithoutCycles() throws IOException {
        Map<String, Set<String>> graph = packageGraph();
        List<String> violations = new ArrayList<>();
        for (Map.Entry<String, Set<String>> entry : graph.entrySet()) {
            int from = layerOf(entry.getKey());
            assertTrue(from >= 0, "package " + entry.getKey() + " is in no layer of this test: add it where it belongs");
            for (String target : entry.getValue()) {
                int to = layerOf(target);
                boolean sameLayerPeer = to == from && !target.equals(entry.getKey());
                if (to > from || (sameLayerPeer && !entry.getKey().equals("org.lsoftmax.train"))) {
                    violations.add(entry.getKey() + " -> " + target);
                }
            }
        }
        assertEquals(List.of(), violations, "dependencies against the data flow; the whole graph: " + graph);
        for (String base : List.of("org.lsoftmax.model", "org.lsoftmax.data", "org.lsoftmax.linalg")) {
            assertTrue(graph.getOrDefault(base, Set.of()).stream().noneMatch(p -> p.startsWith("org.lsoftmax.head")),
                    base + " must not use the head: " + graph.get(base));
        }
    }

    /** Peers of one layer do not use each other, except train, which may run the checks' inputs: none do today. */
    private static int layerOf(String packageName) {
        for (int i = 0; i < LAYERS.size(); i++) {
            if (LAYERS.get(i).contains(packageName)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void nothingPointsOutsideTheRepository() throws IOException {
        List<String> hits = new ArrayList<>();
        Pattern outside = Pattern.compile("ERRATA|TORNADO-ON-POCL|TORNADOVM-SDK|derivatives-for-lsoftmax|\\.\\./shared");
        for (String folder : List.of("src", "benchmarks", "docs", "ci", "bin", "tornado-config", ".ci")) {
            Path start = ROOT.resolve(folder);
            if (!Files.isDirectory(start)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(start)) {
                for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    String name = file.getFileName().toString();
                    if (!(name.endsWith(".java") || name.endsWith(".md") || name.endsWith(".sh") || name.endsWith(".py")
                            || name.equals("lsoftmax") || name.equals("run"))) {
                        continue;
                    }
                    String text = Files.readString(file, StandardCharsets.UTF_8);
                    Matcher matcher = outside.matcher(text);
                    if (matcher.find() && !file.endsWith("ArchitectureTest.java")) {
                        hits.add(ROOT.relativize(file) + ": " + matcher.group());
                    }
                }
            }
        }
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        Matcher matcher = outside.matcher(readme);
        if (matcher.find()) {
            hits.add("README.md: " + matcher.group());
        }
        assertEquals(List.of(), hits, "references to files the repository does not hold");
    }

    static Map<String, Set<String>> packageGraph() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String root : List.of("src/main/java", "src/main/tornado", "src/main/mpi")) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(root))) {
                for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                    String text = Files.readString(file, StandardCharsets.UTF_8);
                    Matcher declared = PACKAGE.matcher(text);
                    if (!declared.find()) {
                        continue;
                    }
                    String own = declared.group(1);
                    Set<String> uses = graph.computeIfAbsent(own, key -> new TreeSet<>());
                    // code only: comments and string literals (the reflective entry point's class name) do not link
                    String code = text.substring(declared.end()).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "")
                            .replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"");
                    Matcher reference = REFERENCE.matcher(code);
                    while (reference.find()) {
                        String used = "org.lsoftmax" + reference.group(1);
                        if (!used.equals(own)) {
                            uses.add(used);
                        }
                    }
                }
            }
        }
        return graph;
    }
}
