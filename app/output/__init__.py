"""Everything that writes files: figures, sidecars, data, movies, screenshots."""
