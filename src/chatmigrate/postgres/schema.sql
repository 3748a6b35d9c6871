-- The Supabase target tables Phase 6 writes to, as section 3 of legacy-and-target.md
-- describes them. Idempotent: creates only what is absent. For demos and tests; a real
-- Supabase project already has these (chatmigrate never alters an existing table).
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (
    id uuid PRIMARY KEY,
    email text
);

DO $$ BEGIN
    CREATE TYPE public.user_role AS ENUM ('customer', 'stylist', 'admin');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE public.booking_status AS ENUM ('pending', 'confirmed', 'cancelled', 'completed');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE public.media_type AS ENUM ('avatar', 'service_image', 'review_image', 'chat_image',
        'application_image', 'landing_asset', 'logo_asset', 'booking_note_image', 'other');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS public.profiles (
    id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    role public.user_role NOT NULL DEFAULT 'customer',
    full_name text,
    email text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.bookings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id uuid NOT NULL REFERENCES public.profiles (id),
    stylist_id uuid NOT NULL REFERENCES public.profiles (id),
    start_time timestamptz NOT NULL,
    end_time timestamptz NOT NULL,
    status public.booking_status NOT NULL DEFAULT 'pending',
    total_price numeric(10, 2) NOT NULL,
    total_duration_minutes integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- chats: begin (chatmigrate swaps this block for schema_chats_participants.sql when asked)
CREATE TABLE IF NOT EXISTS public.chats (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    booking_id uuid NOT NULL UNIQUE REFERENCES public.bookings (id) ON DELETE CASCADE
);
-- chats: end

CREATE TABLE IF NOT EXISTS public.chat_messages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    chat_id uuid NOT NULL REFERENCES public.chats (id) ON DELETE CASCADE,
    sender_id uuid NOT NULL REFERENCES public.profiles (id),
    content text NOT NULL,
    is_read boolean NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS public.media (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    owner_id uuid REFERENCES public.profiles (id),
    file_path text NOT NULL,
    media_type public.media_type NOT NULL,
    is_preview_image boolean NOT NULL DEFAULT false,
    chat_message_id uuid REFERENCES public.chat_messages (id) ON DELETE CASCADE,
    service_id uuid,
    review_id uuid,
    application_id uuid,
    booking_note_id uuid
);

CREATE OR REPLACE FUNCTION public.chats_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;
DROP TRIGGER IF EXISTS chats_set_updated_at ON public.chats;
CREATE TRIGGER chats_set_updated_at BEFORE UPDATE ON public.chats
    FOR EACH ROW EXECUTE FUNCTION public.chats_set_updated_at();

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.chats ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.chat_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.media ENABLE ROW LEVEL SECURITY;
