with source as (
    select * from {{ ref('peer_groups') }}
),

renamed as (
    select
        trim(peer_group_code)::varchar as peer_group_code,
        peer_group_name_da::varchar as peer_group_name_da,
        peer_group_name_en::varchar as peer_group_name_en,
        priority::integer as priority,
        lpad(trim(municipality_code), 3, '0')::varchar as municipality_code
    from source
)

select * from renamed
