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

with source as (
    select * from {{ source('cases', 'citizens') }}
),

{% if is_incremental() %}
changed as (
    select distinct citizen_id
    from source
    where loaded_at > (select max(loaded_at) from {{ this }})
),

versions as (
    select source.* from source semi join changed using (citizen_id)
),
{% else %}
versions as (
    select * from source
),
{% endif %}

latest as (
    select *
    from versions
    qualify row_number() over (
        partition by citizen_id
        order by extract_date desc, loaded_at desc, source_line desc
    ) = 1
),

renamed as (
    select
        citizen_id::varchar as citizen_id,
        birth_year::integer as birth_year,
        sex::varchar as sex,
        citizenship::varchar as citizenship,
        arrival_date::date as arrival_date,
        programme::varchar as programme,
        -- The programme is a dated attribute: this record holds since this extract night.
        extract_date::date as valid_from,
        asylum_centre::varchar as asylum_centre,
        loaded_at::timestamp as loaded_at,
        source_file::varchar as source_file
    from latest
)

select * from renamed
