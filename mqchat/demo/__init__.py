"""mqchat demo: a private broker, bots to chat with, and a sensor for the inspector."""
