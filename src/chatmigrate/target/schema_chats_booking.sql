-- chats as the Phase 6 plan expects them: one chat per booking.
CREATE TABLE IF NOT EXISTS public.chats (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    booking_id uuid NOT NULL UNIQUE REFERENCES public.bookings (id) ON DELETE CASCADE
);
