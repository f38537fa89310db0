package org.lsoftmax;

/**
 * Bad input to the layer or to one of the project's readers: a wrong shape, a value out of range, a
 * non-finite number, an unreadable file. The message names the offending value, row or file; the
 * command line prints it as a single line and exits non-zero.
 */
public class InvalidInputException extends IllegalArgumentException {

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
