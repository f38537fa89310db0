package org.lsoftmax.cli;

import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.InvalidInputException;

/** A list of classes on the command line: {@code 0-4}, {@code 0,2,4} or {@code 0-2,7}; null or blank is the empty list. */
final class ClassList {

    private ClassList() {
    }

    static List<Integer> parse(String text) {
        List<Integer> classes = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return classes;
        }
        for (String part : text.split(",")) {
            String item = part.trim();
            try {
                int dash = item.indexOf('-', 1);
                if (dash > 0) {
                    int from = Integer.parseInt(item.substring(0, dash).trim());
                    int to = Integer.parseInt(item.substring(dash + 1).trim());
                    if (from < 0 || to < from || to - from > 100_000) {
                        throw new InvalidInputException("class range '" + item + "' must be FROM-TO with 0 <= FROM <= TO");
                    }
                    for (int label = from; label <= to; label++) {
                        classes.add(label);
                    }
                } else {
                    int label = Integer.parseInt(item);
                    if (label < 0) {
                        throw new InvalidInputException("class " + label + " is negative");
                    }
                    classes.add(label);
                }
            } catch (NumberFormatException e) {
                throw new InvalidInputException("'" + text + "' is not a list of classes such as 0-4 or 0,2,4", e);
            }
        }
        return classes;
    }
}
