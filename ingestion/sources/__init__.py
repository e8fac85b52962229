"""Source adapters: one module per landing format, each turning files into candidate events."""
