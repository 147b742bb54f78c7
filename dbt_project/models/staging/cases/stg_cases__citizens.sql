{#- One row per citizen and extract night as loaded, typed. The current record of each citizen
    is chosen downstream (int_citizens_current). -#}
with source as (
    select * from {{ source('cases', 'citizens') }}
),

renamed as (
    select
        citizen_id::varchar as citizen_id,
        birth_year::integer as birth_year,
        sex::varchar as sex,
        citizenship::varchar as citizenship,
        arrival_date::date as arrival_date,
        programme::varchar as programme,
        extract_date::date as extract_date,
        asylum_centre::varchar as asylum_centre,
        loaded_at::timestamp as loaded_at,
        source_file::varchar as source_file,
        source_line::integer as source_line
    from source
)

select * from renamed
