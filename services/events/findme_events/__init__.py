"""Events service: organizers, events, attendees, selfies, photos and matches in
PostgreSQL (pgvector), with a Redis-backed event-code cache."""
