{#- The current record of each citizen: the latest extract night wins. Incremental by citizen:
    a night re-reads only the citizens whose records were loaded since the last build. -#}
{{
    config(
        materialized='incremental',
        unique_key='citizen_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with versions as not materialized (
    -- Read by two CTEs: each filters it, so it is not copied whole.
    select * from {{ ref('stg_cases__citizens') }}
),

{% if is_incremental() %}
changed as (
    select distinct citizen_id
    from versions
    where loaded_at > {{ last_built('loaded_at') }}
),

batch as (
    select * from versions where citizen_id in (select citizen_id from changed)
),
{% else %}
batch as (
    select * from versions
),
{% endif %}

latest as (
    select *
    from (
        select
            batch.*,
            row_number() over (
                partition by citizen_id
                order by extract_date desc, loaded_at desc, source_line desc
            ) as version_order
        from batch
    ) as versions_ordered
    where version_order = 1
)

select
    citizen_id,
    birth_year,
    sex,
    citizenship,
    arrival_date,
    programme,
    -- The programme is a dated attribute: this record holds since this extract night.
    extract_date as valid_from,
    asylum_centre,
    loaded_at,
    source_file
from latest
