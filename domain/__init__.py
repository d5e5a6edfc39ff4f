"""Pure domain of the key manager: key tuples, policies, the current-key rule,
envelope framing and the error catalogue. Imports only the standard library."""
