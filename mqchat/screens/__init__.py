"""One Textual screen per module: login, friends, conversation, presence, dialogs."""
