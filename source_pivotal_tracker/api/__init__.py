"""The API way in's helpers: sign-in, what every request obeys, deadlines, projects Tracker refused."""
