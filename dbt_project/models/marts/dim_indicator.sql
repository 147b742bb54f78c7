with indicators as (
    select * from {{ ref('stg_reference__indicators') }}
)

select
    indicator_code,
    area_code,
    area_name_da,
    area_name_en,
    indicator_name_da,
    indicator_name_en,
    unit,
    direction,
    population_definition,
    main_population_group,
    comparison_population_group,
    baseline_year,
    component_indicator_code
from indicators
