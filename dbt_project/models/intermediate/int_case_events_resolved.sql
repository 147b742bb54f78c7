{#- Every case event with its correction state, built incrementally by event_id.

    An event is active unless it is cancelled (is_cancelled) or another event replaces it
    (a correction carries replaces_event_id). A cancelled correction still replaces its
    original: both are inactive. Each night only the events loaded since the last build are
    rebuilt, together with the events whose replaced state they can change: the ones they
    replace now and the ones their previous version replaced. -#}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#- not materialized: the staged events are read by several CTEs; materialising all of them
    once would copy every event each night, where each reader only needs the night's few. -#}
with events as not materialized (
    select * from {{ ref('stg_cases__events') }}
),

{% if is_incremental() %}
changed as (
    select event_id, replaces_event_id
    from events
    where loaded_at > {{ last_built('loaded_at') }}
),

touched as (
    select event_id from changed
    union
    select replaces_event_id from changed where replaces_event_id is not null
    union
    select previous.replaces_event_id
    from {{ this }} as previous
    where previous.event_id in (select event_id from changed)
        and previous.replaces_event_id is not null
),

batch as (
    select * from events where event_id in (select event_id from touched)
),
{% else %}
batch as (
    select * from events
),
{% endif %}

replaced as (
    select distinct replaces_event_id as event_id
    from events
    where replaces_event_id is not null
),

{% if is_incremental() %}
moved as (
    -- An event whose new version names another citizen: that citizen's milestones change too.
    select previous.event_id, previous.citizen_id as previous_citizen_id
    from {{ this }} as previous
    inner join batch using (event_id)
    where previous.citizen_id <> batch.citizen_id
),
{% endif %}

resolved as (
    select
        batch.event_id,
        batch.citizen_id,
        batch.event_type,
        batch.event_date,
        batch.end_date,
        batch.detail,
        batch.replaces_event_id,
        batch.is_cancelled,
        (replaced.event_id is not null)::boolean as is_replaced,
        (not batch.is_cancelled and replaced.event_id is null)::boolean as is_active,
        batch.extract_date,
        batch.loaded_at,
        -- The load that made this build of the row: downstream incremental models start here.
        (select max(loaded_at) from events)::timestamp as changed_at,
        {% if is_incremental() %}moved.previous_citizen_id{% else %}null{% endif %}::varchar
            as previous_citizen_id,
        batch.source_file,
        batch.source_line
    from batch
    left join replaced using (event_id)
    {% if is_incremental() %}left join moved using (event_id){% endif %}
)

select * from resolved
