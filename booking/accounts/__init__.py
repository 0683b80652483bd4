"""Staff accounts of the coordinator workspace: coordinators and trainers."""
