"""The connector's Docker image, built from the repository's Dockerfile and run as the platform does."""
