with municipalities as (
    select * from {{ ref('stg_reference__municipalities') }}
)

select
    municipality_code,
    municipality_name,
    region_code,
    region_name,
    is_country
from municipalities
