"""Turns YAML task specs into Airflow DAG files (see builder/README.md)."""
