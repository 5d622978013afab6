"""The ground floor: what every app may import (bulk writes, JSON decoders of one-statement readers, locks,
the task outbox and the retry policy, admin display helpers). It imports no app and not the project
package ``config``."""
