{#- Every version of every case event as loaded (raw.case_events keeps the latest extract's
    version of each event_id), typed. Corrections and cancellations are resolved downstream
    (int_case_events_resolved). -#}
with source as (
    select * from {{ source('cases', 'events') }}
),

renamed as (
    select
        event_id::bigint as event_id,
        citizen_id::varchar as citizen_id,
        event_type::varchar as event_type,
        event_date::date as event_date,
        end_date::date as end_date,
        detail::varchar as detail,
        replaces_event_id::bigint as replaces_event_id,
        is_cancelled::boolean as is_cancelled,
        extract_date::date as extract_date,
        loaded_at::timestamp as loaded_at,
        source_file::varchar as source_file,
        source_line::integer as source_line
    from source
)

select * from renamed
