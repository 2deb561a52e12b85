"""End-to-end encryption's building blocks (issue 16): a device's identity keys and
the signed record peers find them by, and the safety numbers two users compare.
Every primitive comes from the ``cryptography`` package (X25519, Ed25519) or the
standard library (SHA-512); nothing here is a home-made primitive."""
