"""The MQTT side of mqchat (aiomqtt): connection, chat, presence. Never imports Textual."""
