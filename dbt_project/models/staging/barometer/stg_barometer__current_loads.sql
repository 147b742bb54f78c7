{#- For every export file among tonight's sources, the load holding its current content. -#}
with source as (
    select * from {{ source('barometer', 'current_loads') }}
),

renamed as (
    select
        load_id::varchar as source_load_id
    from source
)

select * from renamed
