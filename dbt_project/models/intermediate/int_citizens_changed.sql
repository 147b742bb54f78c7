{#- One row per citizen: the latest load that changed the citizen's record or events. The index
    through which the incremental case models find the citizens a night touched.

    A real table of one row per citizen, so a night's filter on changed_at is planned as a small
    build side against the 10 M events: computed inside int_citizen_milestones, DuckDB
    misjudged the touched set and hashed every event instead (bench/RESULTS.md).

    Incremental by citizen: a night reads only the rows built since its last build (the events
    are appended, so their zone maps skip the rest). A citizen is touched by a new version of
    their record, by any event of theirs rebuilt (a correction or cancellation of it, or of an
    event it replaced), and by an event moved away from them (previous_citizen_id). A full build
    marks every citizen as changed by that build. -#}
{{
    config(
        materialized='incremental',
        unique_key='citizen_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with events as not materialized (
    select citizen_id, previous_citizen_id, changed_at
    from {{ ref('int_case_events_resolved') }}
),

citizens as not materialized (
    select citizen_id, loaded_at from {{ ref('int_citizens_current') }}
),

this_build as (
    select greatest(
        (select max(changed_at) from events),
        (select max(loaded_at) from citizens)
    ) as changed_at
),

{% if is_incremental() %}
{%- set built = last_built('changed_at') %}

touched as (
    select citizen_id from events where changed_at > {{ built }}
    union
    select previous_citizen_id from events
    where changed_at > {{ built }} and previous_citizen_id is not null
    union
    select citizen_id from citizens where loaded_at > {{ built }}
)
{% else %}
touched as (
    select citizen_id from citizens
)
{% endif %}

select
    touched.citizen_id::varchar as citizen_id,
    this_build.changed_at::timestamp as changed_at
from touched
cross join this_build
