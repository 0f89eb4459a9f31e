"""findme gateway: public HTTP API and web pages in front of the gRPC services."""
