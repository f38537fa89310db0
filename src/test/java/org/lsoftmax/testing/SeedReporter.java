package org.lsoftmax.testing;

import java.util.List;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * Names the seeds a failed test drew from {@link Seeds} in its failure message, so every random failure
 * can be replayed. Registered for all tests through {@code META-INF/services} and JUnit's extension
 * auto-detection (src/test/resources/junit-platform.properties).
 */
public final class SeedReporter implements BeforeEachCallback, TestExecutionExceptionHandler {

    @Override
    public void beforeEach(ExtensionContext context) {
        Seeds.clear();
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        List<Long> seeds = Seeds.drawn();
        if (seeds.isEmpty() || throwable instanceof org.opentest4j.TestAbortedException) {
            throw throwable;
        }
        AssertionError withSeeds = new AssertionError(throwable.getMessage() + "\n  [random seeds of this test: " + seeds
                + "; replay with -D" + Seeds.PROPERTY + "=" + seeds.get(0) + "]", throwable);
        withSeeds.setStackTrace(throwable.getStackTrace());
        throw withSeeds;
    }
}
