"""``tempox demo``: a mixed estate recorded from real Airflow, Prefect and Dagster servers and
an OpenLineage producer, replayed through the adapters' own code into a catalog."""
