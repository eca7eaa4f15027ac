"""Cost shown back per business team: what each team's use of the warehouse costs, per day.

In production (``snowflake_sql.py``) the day's bill is split in Snowflake from
``SNOWFLAKE.ACCOUNT_USAGE`` and the platform's query tags; locally (``measured.py``) from the
execution time the Dagster instance measured, priced as a warehouse would meter it. One asset
(``assets.py``), the same columns in both (``table.py``), a stacked chart (``chart.py``).
"""
