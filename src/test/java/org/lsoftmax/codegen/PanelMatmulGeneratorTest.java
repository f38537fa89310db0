package org.lsoftmax.codegen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The committed panel kernel is exactly the generator's output (no hand edits, no stale file). */
class PanelMatmulGeneratorTest {

    @Test
    void committedKernelIsTheGeneratorsOutput() throws IOException {
        if (Boolean.getBoolean("lsoftmax.codegen.write")) {
            PanelMatmulGenerator.main(new String[0]);
        }
        String committed = Files.readString(PanelMatmulGenerator.TARGET, StandardCharsets.UTF_8);
        assertEquals(PanelMatmulGenerator.source(), committed, PanelMatmulGenerator.TARGET
                + " differs from PanelMatmulGenerator's output: edit the generator, then regenerate with"
                + " ci/test.sh -Dtest=PanelMatmulGeneratorTest -Dlsoftmax.codegen.write=true");
    }
}
