"""Plumbing shared by every findme service: settings base, JSON logging, gRPC
server bootstrap and client channels, error metadata. No business logic."""
