"""Benchmarks of mqchat against a private mosquitto; each module runs as a script."""
