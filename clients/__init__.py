"""Client-side libraries for the key manager's formats; nothing here imports the server."""
