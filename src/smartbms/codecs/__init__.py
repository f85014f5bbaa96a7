"""Wire formats: pure encoders and decoders with no I/O (Instant Readout in `readout`)."""
