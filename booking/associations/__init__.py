"""Associations: the migrant self-organisations (MSOs) whose members take part."""
