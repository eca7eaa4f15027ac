-- Calendar growth's semantic layer aggregates metrics over (one row per day); the shared
-- time_spine_days macro (dbt/macros) is every domain's calendar.
{{ time_spine_days() }}
