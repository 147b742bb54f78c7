{#- The programmes of the case data, with Danish and English names (unknown: left blank). -#}
select
    programme,
    programme_name_da as label_da,
    programme_name_en as label_en
from {{ ref('stg_reference__case_programmes') }}
union all
select 'all', 'Alle programmer', 'All programmes'
